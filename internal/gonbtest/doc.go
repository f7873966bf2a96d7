// Package gonbtest helps tests stand in for GoNB: FakeKernel plays GoNB's side of the named pipes
// that gonbui talks to, so that a test can check what a package displays in a notebook without
// Jupyter; Program builds the Go program that GoNB builds for a cell after the cells before it, so
// that a test can compile notebook cells (the labs' declarations, the READMEs' snippets) without a
// kernel.
package gonbtest
