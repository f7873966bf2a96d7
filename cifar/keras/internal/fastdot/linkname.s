// This file is empty on purpose: an assembly file in the package lets fastdot.go declare
// sgGetBufferForShape without a body (its body is simplego's, reached with go:linkname).
