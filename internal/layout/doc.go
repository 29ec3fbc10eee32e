// Package layout holds no code: its test checks the dependency rules of the
// package structure (docs/ARCHITECTURE.md), so that they survive merges.
package layout
