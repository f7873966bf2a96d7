// Package docsnippets holds only a test: that every Go snippet of the project's Markdown pages
// (README.md, CONTRIBUTING.md, MEASUREMENTS.md) compiles as shown, notebook cells the way GoNB
// builds them.
package docsnippets
