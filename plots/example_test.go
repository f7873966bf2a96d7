package plots_test

import (
	"fmt"
	"log"

	"github.com/cifarlab/cifarlab/plots"
)

// The constructors take the class names and the values, as the package and Chart docs show;
// printing a chart (outside a notebook Display prints the same) gives its text description.
func ExampleClassDistribution() {
	classNames := []string{"cat", "dog", "ship"}
	counts := []int{5000, 4990, 5010}
	ch := plots.ClassDistribution(classNames, counts)
	if err := ch.Err(); err != nil {
		log.Fatal(err)
	}
	fmt.Print(ch)
	// Output:
	// [chart "Class distribution", 945x443 PNG at 150 dpi; Save(path) writes it]
	// Number of images:
	//   cat          5000
	//   dog          4990
	//   ship         5010
}
