// Package fileid tells whether a file is still the one that was checked: an identity of the file
// (device, inode, size, modification and change times) that any write or replacement changes, so
// that an expensive check of its content (a checksum) can be remembered and trusted until then.
// The flat cache of CIFAR-10 (cifar) and the PJRT plugin's verification (backend) use it.
package fileid
