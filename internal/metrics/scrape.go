package metrics

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"
)

// Samples are the series of one scrape, keyed by name and labels as written in
// the text format with the labels sorted: `name{a="1",b="2"}` (or `name`).
type Samples map[string]float64

// Key builds the key of a series from its name and label pairs (name, value, ...).
func Key(name string, labels ...string) string {
	if len(labels) < 2 {
		return name
	}
	pairs := make([]string, 0, len(labels)/2)
	for i := 0; i+1 < len(labels); i += 2 {
		pairs = append(pairs, labels[i]+`="`+labels[i+1]+`"`)
	}
	sort.Strings(pairs)
	return name + "{" + strings.Join(pairs, ",") + "}"
}

// Get returns a series' value (0 when absent).
func (s Samples) Get(name string, labels ...string) float64 { return s[Key(name, labels...)] }

// Has reports whether a metric name occurs (with any labels, or as a histogram's _bucket/_sum/_count).
func (s Samples) Has(name string) bool {
	for k := range s {
		base, _, _ := strings.Cut(k, "{")
		if base == name || base == name+"_bucket" || base == name+"_count" || base == name+"_total" {
			return true
		}
	}
	return false
}

// Sum adds every series of name whose labels include the given pairs.
func (s Samples) Sum(name string, labels ...string) float64 {
	var total float64
	for k, v := range s {
		base, rest, _ := strings.Cut(k, "{")
		if base != name {
			continue
		}
		ok := true
		for i := 0; i+1 < len(labels); i += 2 {
			if !strings.Contains(rest, labels[i]+`="`+labels[i+1]+`"`) {
				ok = false
				break
			}
		}
		if ok {
			total += v
		}
	}
	return total
}

// Bucket is one cumulative histogram bucket.
type Bucket struct {
	Le    float64
	Count float64
}

// Histogram returns the cumulative buckets of a histogram (sorted by le) whose
// other labels include the given pairs, summed over the remaining labels.
func (s Samples) Histogram(name string, labels ...string) []Bucket {
	byLe := map[float64]float64{}
	for k, v := range s {
		base, rest, _ := strings.Cut(k, "{")
		if base != name+"_bucket" {
			continue
		}
		ok := true
		for i := 0; i+1 < len(labels); i += 2 {
			if !strings.Contains(rest, labels[i]+`="`+labels[i+1]+`"`) {
				ok = false
				break
			}
		}
		i := strings.Index(rest, `le="`)
		if !ok || i < 0 {
			continue
		}
		leStr := rest[i+4:]
		leStr = leStr[:strings.IndexByte(leStr, '"')]
		le, err := strconv.ParseFloat(leStr, 64)
		if err != nil {
			continue
		}
		byLe[le] += v
	}
	out := make([]Bucket, 0, len(byLe))
	for le, c := range byLe {
		out = append(out, Bucket{le, c})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Le < out[j].Le })
	return out
}

// Delta returns after − before for every series of after. It is meant for
// counters and histogram buckets of one process; for gauges read after itself.
func Delta(after, before Samples) Samples {
	out := Samples{}
	for k, v := range after {
		out[k] = v - before[k]
	}
	return out
}

// Quantile estimates quantile q (0..1) from cumulative buckets by linear
// interpolation inside the bucket, as Prometheus' histogram_quantile does.
// It returns NaN when there are no observations.
func Quantile(q float64, buckets []Bucket) float64 {
	if len(buckets) == 0 {
		return math.NaN()
	}
	total := buckets[len(buckets)-1].Count
	if total <= 0 {
		return math.NaN()
	}
	rank := q * total
	prevLe, prevCount := 0.0, 0.0
	for _, b := range buckets {
		if b.Count >= rank {
			if math.IsInf(b.Le, 1) {
				return prevLe // above the highest finite bucket: its bound is the best estimate
			}
			if b.Count == prevCount {
				return b.Le
			}
			return prevLe + (b.Le-prevLe)*(rank-prevCount)/(b.Count-prevCount)
		}
		prevLe, prevCount = b.Le, b.Count
	}
	return prevLe
}

// Parse reads the Prometheus text format (the subset client_golang writes).
func Parse(r io.Reader) (Samples, error) {
	out := Samples{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		var series, value string
		if i := strings.LastIndexByte(line, '}'); i >= 0 {
			series, value = line[:i+1], strings.TrimSpace(line[i+1:])
		} else {
			f := strings.Fields(line)
			if len(f) < 2 {
				return nil, fmt.Errorf("metrics: bad line %q", line)
			}
			series, value = f[0], f[1]
		}
		if f := strings.Fields(value); len(f) > 0 {
			value = f[0] // drop a timestamp
		}
		v, err := strconv.ParseFloat(value, 64)
		if err != nil {
			return nil, fmt.Errorf("metrics: bad value in %q", line)
		}
		out[normalize(series)] = v
	}
	return out, sc.Err()
}

// normalize sorts a series' labels so that keys compare equal.
func normalize(series string) string {
	base, rest, ok := strings.Cut(series, "{")
	if !ok {
		return series
	}
	rest = strings.TrimSuffix(rest, "}")
	if rest == "" {
		return base
	}
	var pairs []string
	for len(rest) > 0 {
		eq := strings.Index(rest, `="`)
		if eq < 0 {
			break
		}
		name := strings.TrimLeft(rest[:eq], ", ")
		j := eq + 2
		var val strings.Builder
		for j < len(rest) && rest[j] != '"' {
			if rest[j] == '\\' && j+1 < len(rest) {
				j++
			}
			val.WriteByte(rest[j])
			j++
		}
		pairs = append(pairs, name+`="`+val.String()+`"`)
		rest = rest[min(j+1, len(rest)):]
	}
	sort.Strings(pairs)
	return base + "{" + strings.Join(pairs, ",") + "}"
}

// Scrape fetches and parses a /metrics URL.
func Scrape(ctx context.Context, client *http.Client, url string) (Samples, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("metrics: %s: status %d", url, resp.StatusCode)
	}
	return Parse(resp.Body)
}
