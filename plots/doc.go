// Package plots draws the charts of the labs with gonum/plot, as PNG images sized to be readable on
// an A4 PDF page: image grids (one sample per class, predictions titled in green or red), bar
// charts such as the class distribution, training curves with learning-rate reductions and the
// early-stopping epoch, comparisons of runs, the confusion-matrix heatmap and weight histograms.
//
// It knows nothing of CIFAR-10: images, labels and class names are arguments (package lab passes
// the dataset's). It depends on package report for the confusion matrix and the weight statistics
// it draws.
//
// Every constructor returns a *Chart. In a GoNB cell,
//
//	err := plots.ClassDistribution(classNames, counts).Display()
//
// shows the chart inline (notebooks call lab.Show, which stops the cell on an error); outside a
// notebook Display prints a text description, and Save(path) or PNG() give the image. Problems
// with the input are returned as errors by Display, Save, PNG and Err, never as panics.
//
// Charts are 16 cm wide at print size and rendered at 150 dpi (DefaultDPI); fonts are at least
// 10 pt at that size. PNGs record their resolution, so LaTeX places them at print size.
package plots
