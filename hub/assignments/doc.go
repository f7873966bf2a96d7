// Package assignments holds the class hub's nbgrader assignments: one folder per assignment with
// its source notebook (solutions between "// BEGIN SOLUTION" and "// END SOLUTION", hidden tests
// between "// BEGIN HIDDEN TESTS" and "// END HIDDEN TESTS"), which the hub copies into each
// teacher's course (hub/cifarlab_spawner.py). Its tests check each assignment against the lab
// notebook it comes from and compile its cells, with the solution and with nbgrader's stub.
package assignments
