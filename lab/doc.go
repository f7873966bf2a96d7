// Package lab is what the lab notebooks import besides keras: the notebook writes its model,
// compile and fit settings with package keras, and lab loads the data, fits that model with a
// memoized run (Fit in the training cell, Trained in the cells after it), evaluates it and shows
// tables and charts, so that each cell is one line per Keras step.
//
// Errors: lab is the notebook's layer, so its functions do not return errors. A failure (no data,
// a run that was never trained, an interrupt) stops the cell with one line, "Error: " and what
// happened, and exit status 1, which GoNB shows under the cell (see Check). Check, Must and Must2
// do the same for the calls of other packages that return an error, such as keras.Sequential.
//
// Quick mode: with CIFARLAB_QUICK=1 in the kernel's environment (the test runner's switch, never a
// student's), LoadData keeps the first QuickTrainImages and QuickTestImages images and Fit trains
// at most QuickEpochs epochs, saying so; the notebook's cells keep their real settings.
//
// Where things are:
//   - settings.go: the settings, read from the environment in one place (quick mode, retrain, data
//     folder, runs folder, backend), and quick mode's limits.
//   - check.go: Check, Must, Must2 and Show, so that cells stop with a clear error.
//   - data.go: LoadData and the conversions of a cifar.Split into model inputs and labels.
//   - train.go: Fit and Trained, memoized training runs (keras/runs) of a notebook's model, and
//     TrainedModel.
//   - predictions.go: a trained model's predictions on the test images, memoized, with the reports
//     and charts built from them.
//   - backend.go: UseBackend, the GoMLX backend of the process.
//   - live.go: LiveCurves, the training curves drawn while Fit runs.
//   - tables.go, charts.go: the dataset's tables and charts.
//
// It builds on cifar (the dataset), keras and keras/runs (models and memoized training), report
// (tables) and plots (charts); none of those depends on lab or on another of them, except plots
// on report (a confusion matrix chart draws a report.ConfusionMatrix). The labs' reference
// settings, for the tests and benchmarks, are in internal/presets.
package lab
