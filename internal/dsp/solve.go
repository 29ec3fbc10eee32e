package dsp

import "math"

// solve solves m·x = b for square m by Gaussian elimination with partial
// pivoting, destroying m and b. It reports false when a pivot's magnitude is
// below tol (the system is singular at that tolerance).
func solve(m [][]float64, b, x []float64, tol float64) bool {
	n := len(m)
	for c := 0; c < n; c++ {
		p := c
		for r := c + 1; r < n; r++ {
			if math.Abs(m[r][c]) > math.Abs(m[p][c]) {
				p = r
			}
		}
		if math.Abs(m[p][c]) < tol {
			return false
		}
		m[c], m[p] = m[p], m[c]
		b[c], b[p] = b[p], b[c]
		for r := c + 1; r < n; r++ {
			f := m[r][c] / m[c][c]
			for k := c; k < n; k++ {
				m[r][k] -= f * m[c][k]
			}
			b[r] -= f * b[c]
		}
	}
	for r := n - 1; r >= 0; r-- {
		s := b[r]
		for k := r + 1; k < n; k++ {
			s -= m[r][k] * x[k]
		}
		x[r] = s / m[r][r]
	}
	return true
}

// Solve3 solves m·x = v (3 x 3) by Gaussian elimination with partial
// pivoting; ok is false when a pivot is smaller than tol.
func Solve3(m [3][3]float64, v [3]float64, tol float64) (x [3]float64, ok bool) {
	ok = solve([][]float64{m[0][:], m[1][:], m[2][:]}, v[:], x[:], tol)
	return x, ok
}

// Solve6 is Solve3 for 6 x 6 systems.
func Solve6(m [6][6]float64, v [6]float64, tol float64) (x [6]float64, ok bool) {
	ok = solve([][]float64{m[0][:], m[1][:], m[2][:], m[3][:], m[4][:], m[5][:]}, v[:], x[:], tol)
	return x, ok
}
