package dsp

import (
	"math"
	"math/cmplx"
	"math/rand/v2"
	"testing"
)

func TestFFTMatchesDFT(t *testing.T) {
	const n = 64
	p := NewFFT(n)
	re, im := make([]float64, n), make([]float64, n)
	x := make([]complex128, n)
	for i := range x {
		x[i] = complex(math.Sin(float64(i)*0.7)+float64(i%5), math.Cos(float64(i)*1.3))
		re[i], im[i] = real(x[i]), imag(x[i])
	}
	p.Transform(re, im)
	for k := range n {
		var want complex128
		for j := range n {
			want += x[j] * cmplx.Exp(complex(0, -2*math.Pi*float64(j*k)/n))
		}
		if cmplx.Abs(want-complex(re[k], im[k])) > 1e-9 {
			t.Fatalf("bin %d: got %v want %v", k, complex(re[k], im[k]), want)
		}
	}
}

func TestFFT2DMatchesDFT(t *testing.T) {
	const n = 8
	p := NewFFT(n)
	re, im := make([]float64, n*n), make([]float64, n*n)
	for i := range re {
		re[i] = math.Sin(float64(i)*0.37) + float64(i%3)
	}
	orig := append([]float64(nil), re...)
	p.Transform2D(re, im, make([]float64, 2*n))
	for v := range n {
		for u := range n {
			var want complex128
			for y := range n {
				for x := range n {
					want += complex(orig[y*n+x], 0) * cmplx.Exp(complex(0, -2*math.Pi*float64(u*x+v*y)/n))
				}
			}
			if got := complex(re[v*n+u], im[v*n+u]); cmplx.Abs(want-got) > 1e-9 {
				t.Fatalf("bin (%d,%d): got %v want %v", u, v, got, want)
			}
		}
	}
}

func TestNewFFTRejectsOtherSizes(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("NewFFT(12) did not panic")
		}
	}()
	NewFFT(12)
}

func TestStatistics(t *testing.T) {
	x := []float64{4, 1, 3, 2}
	if m := Mean(x); m != 2.5 {
		t.Errorf("Mean = %g", m)
	}
	if s := StdDev(x); math.Abs(s-math.Sqrt(5.0/3)) > 1e-12 {
		t.Errorf("StdDev = %g", s)
	}
	if r := RMS([]float64{3, -4}); math.Abs(r-math.Sqrt(12.5)) > 1e-12 {
		t.Errorf("RMS = %g", r)
	}
	if m := Median(x); m != 2.5 {
		t.Errorf("Median = %g", m)
	}
	if m := Median([]float64{5, 1, 9}); m != 5 {
		t.Errorf("Median of odd = %g", m)
	}
	if q := Quantile(x, 0.9); math.Abs(q-3.7) > 1e-12 {
		t.Errorf("Quantile(0.9) = %g", q)
	}
	if x[0] != 4 {
		t.Error("Quantile sorted its input")
	}
	for _, f := range []func([]float64) float64{Mean, StdDev, RMS, Median} {
		if v := f(nil); v != 0 {
			t.Errorf("empty input gave %g", v)
		}
	}
	for in, want := range map[float64]float64{-1: 0, 0.25: 0.25, 7: 1, math.NaN(): 0} {
		if got := Clamp01(in); got != want && !math.IsNaN(in) {
			t.Errorf("Clamp01(%g) = %g", in, got)
		}
	}
	if Clamp01(math.NaN()) != 0 {
		t.Error("Clamp01(NaN) != 0")
	}
}

func TestPearson(t *testing.T) {
	x := []float64{1, 2, 3, 4, 5}
	if r, ok := Pearson(x, []float64{2, 4, 6, 8, 10}); !ok || math.Abs(r-1) > 1e-12 {
		t.Errorf("perfect correlation: %g %v", r, ok)
	}
	if r, ok := Pearson(x, []float64{5, 4, 3, 2, 1}); !ok || math.Abs(r+1) > 1e-12 {
		t.Errorf("perfect anti-correlation: %g %v", r, ok)
	}
	if _, ok := Pearson(x, []float64{3, 3, 3, 3, 3}); ok {
		t.Error("a constant series correlated")
	}
	if _, ok := Pearson(x[:2], x[:2]); ok {
		t.Error("two points correlated")
	}
	if _, ok := Pearson(x, x[:4]); ok {
		t.Error("different lengths correlated")
	}
}

func TestDetrend(t *testing.T) {
	tt := []float64{0, 1, 2, 3, 4, 5}
	y := make([]float64, len(tt))
	wiggle := []float64{0.5, -0.5, 0.5, -0.5, 0.5, -0.5}
	for i := range y {
		y[i] = 3 + 2*tt[i] + wiggle[i]
	}
	Detrend(tt, y)
	if m := Mean(y); math.Abs(m) > 1e-12 {
		t.Errorf("mean after detrend %g", m)
	}
	if r, ok := Pearson(tt, y); ok && math.Abs(r) > 1e-9 {
		t.Errorf("a trend is left: r = %g", r)
	}
	short := []float64{1, 5}
	Detrend([]float64{0, 1}, short)
	if short[0] != 1 || short[1] != 5 {
		t.Error("two points were detrended")
	}
}

func TestSolve(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var m [6][6]float64
	var want [6]float64
	for i := range 6 {
		want[i] = r.Float64()*10 - 5
		for j := range 6 {
			m[i][j] = r.Float64()*2 - 1
		}
		m[i][i] += 4 // well conditioned
	}
	var v [6]float64
	for i := range 6 {
		for j := range 6 {
			v[i] += m[i][j] * want[j]
		}
	}
	x, ok := Solve6(m, v, 1e-15)
	if !ok {
		t.Fatal("a regular system was refused")
	}
	for i := range x {
		if math.Abs(x[i]-want[i]) > 1e-9 {
			t.Fatalf("x[%d] = %g, want %g", i, x[i], want[i])
		}
	}
	// A pivot needs swapping: the first column's first entry is zero.
	x3, ok := Solve3([3][3]float64{{0, 1, 0}, {1, 0, 0}, {0, 0, 2}}, [3]float64{3, 4, 10}, 1e-9)
	if !ok || x3 != [3]float64{4, 3, 5} {
		t.Fatalf("Solve3 = %v %v", x3, ok)
	}
	if _, ok := Solve3([3][3]float64{{1, 2, 3}, {2, 4, 6}, {0, 0, 1}}, [3]float64{1, 2, 3}, 1e-9); ok {
		t.Error("a singular system was solved")
	}
}
