// Package lab is what the lab notebooks import besides keras: the notebook writes its model,
// compile and fit settings with package keras, and lab loads the data, fits that model with a
// memoized run (Fit in the training cell, Trained in the cells after it), evaluates it and shows
// tables and charts, so that each cell is one line per Keras step. It is the only package that
// knows the labs' settings.
//
// Where things are:
//   - settings.go: the settings, read from the environment in one place (quick mode, retrain, data
//     folder, runs folder, backend), and Pick for the hyperparameter cells.
//   - check.go: Check, Must, Must2 and Show, so that cells stop with a clear error.
//   - data.go: LoadData and the conversions of a cifar.Split into model inputs and labels.
//   - presets.go: the labs' models, compile and fit settings (Lab3, Exercise2) as Experiments, for
//     the tests and benchmarks (the notebooks write theirs; a test of nbrun checks they agree).
//   - train.go: Fit and Trained, memoized training runs (keras/runs) of a notebook's model, and Run.
//   - predictions.go: a run's predictions on the test images, memoized, with the reports and charts
//     built from them.
//   - backend.go: UseBackend, the GoMLX backend of the process.
//   - live.go: LiveCurves, the training curves drawn while Fit runs.
//   - tables.go, charts.go: the dataset's tables and charts.
//
// It builds on cifar (the dataset), keras and keras/runs (models and memoized training), report
// (tables) and plots (charts); none of those depends on lab or on another of them, except plots
// on report (a confusion matrix chart draws a report.ConfusionMatrix).
package lab
