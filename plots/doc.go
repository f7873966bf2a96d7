// Package plots draws the charts of the CIFAR-10 labs with gonum/plot, as PNG images sized to be
// readable on an A4 PDF page: image grids (one sample per class, predictions titled in green or
// red), the class distribution, training curves with learning-rate reductions and the
// early-stopping epoch, comparisons of runs, the confusion-matrix heatmap and weight histograms.
//
// Every constructor returns a *Chart. In a GoNB cell,
//
//	plots.ClassDistribution(ds.Train.ClassCounts()).Display()
//
// shows the chart inline; outside a notebook Display prints a text description, and Save(path)
// or PNG() give the image. Problems with the input are returned as errors by Display, Save, PNG
// and Err, never as panics.
//
// Charts are 16 cm wide at print size and rendered at 150 dpi (DefaultDPI); fonts are at least
// 10 pt at that size. PNGs record their resolution, so LaTeX places them at print size.
package plots
