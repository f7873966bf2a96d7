// Package cifar loads the CIFAR-10 data set the way the Keras labs do
// (keras.datasets.cifar10.load_data), fast and with errors a student can act on.
//
// It reads the python version of the data set (the pickled batches in cifar-10-batches-py) and the
// binary version (cifar-10-batches-bin), downloads and verifies the official archive when no local
// copy exists, keeps a flat cache so that a later GoNB cell gets the data back in milliseconds, and
// provides the preprocessing the labs use: subsets, normalisation to [0,1], one-hot labels,
// flattening and Keras's validation split.
//
// Images are stored as uint8 in height, width, channel order ([N,32,32,3]), exactly like the lab's
// x.reshape(-1,3,32,32).transpose(0,2,3,1).
package cifar

// Image geometry and class count of CIFAR-10.
const (
	Height     = 32                        // image height in pixels
	Width      = 32                        // image width in pixels
	Channels   = 3                         // red, green, blue
	ImageSize  = Height * Width * Channels // bytes per image (3072)
	NumClasses = 10                        // number of classes
)

// ClassNames are the CIFAR-10 class names in official label order (label 0 is "airplane").
var ClassNames = [NumClasses]string{
	"airplane", "automobile", "bird", "cat", "deer",
	"dog", "frog", "horse", "ship", "truck",
}
