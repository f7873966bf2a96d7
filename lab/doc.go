// Package lab is what the lab notebooks import: it runs the steps of the two CIFAR-10 labs (load
// the data, build and train the reference models, evaluate them) so that each notebook cell is one
// call per Keras step, and it is the only package that knows the labs' settings.
//
// Where things are:
//   - settings.go: the settings, read from the environment in one place (quick mode, retrain, data
//     folder, runs folder, backend), and Pick for the hyperparameter cells.
//   - check.go: Check, Must, Must2 and Show, so that cells stop with a clear error.
//   - data.go: LoadData and the conversions of a cifar.Split into model inputs and labels.
//   - presets.go: the labs' models, compile and fit settings (Lab3, Exercise2) as Experiments.
//   - train.go: Train and Trained, memoized training runs (keras/runs) of an Experiment, and Run.
//   - predictions.go: a run's predictions on its test images, memoized, with the reports and charts
//     built from them.
//   - live.go: LiveCurves, the training curves drawn while Fit runs.
//   - tables.go, charts.go: the dataset's tables and charts.
//
// It builds on cifar (the dataset), keras and keras/runs (models and memoized training), report
// (tables) and plots (charts); none of those depends on lab or on another of them, except plots
// on report (a confusion matrix chart draws a report.ConfusionMatrix).
package lab
