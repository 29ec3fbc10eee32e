// C interface to dlib's 68-point shape predictor, used by landmarks.go.
// Every function catches C++ exceptions; an error comes back as a malloc'd
// message in *err that the caller must free().
#ifndef LIVECHECK_DLIB_WRAPPER_H
#define LIVECHECK_DLIB_WRAPPER_H

#ifdef __cplusplus
extern "C" {
#endif

typedef void *lc_predictor;

// lc_predictor_load deserializes a shape predictor model from path.
// It returns NULL and sets *err on failure.
lc_predictor lc_predictor_load(const char *path, char **err);

// lc_predictor_free releases a model returned by lc_predictor_load.
void lc_predictor_free(lc_predictor p);

// lc_predictor_parts returns the number of parts the model predicts.
int lc_predictor_parts(lc_predictor p);

// lc_predictor_mean_shape writes the model's mean shape (2*parts floats, in
// box-normalised coordinates: (0,0) top-left, (1,1) bottom-right of the face
// box) to out and returns the number of parts, or -1 if max_parts is too small.
int lc_predictor_mean_shape(lc_predictor p, float *out, int max_parts);

// lc_predictor_run fits the model on an 8-bit grey image (rows of width
// pixels, stride bytes apart; not copied) inside the box
// [left,right]x[top,bottom] (inclusive, dlib convention). It writes
// 2*parts floats (x0,y0,x1,y1,...) to out, which must hold 2*max_parts
// floats. It returns the number of parts, or -1 with *err set.
int lc_predictor_run(lc_predictor p, const unsigned char *gray, int width,
                     int height, int stride, long left, long top, long right,
                     long bottom, float *out, int max_parts, char **err);

// lc_reference_run fits the model at path with dlib's own
// dlib::shape_predictor (loaded on each call; points rounded to integers as
// dlib rounds them), as lc_predictor_run does: the reference the tests
// compare the packed predictor with.
int lc_reference_run(const char *path, const unsigned char *gray, int width,
                     int height, int stride, long left, long top, long right,
                     long bottom, long *out, int max_parts, char **err);

#ifdef __cplusplus
}
#endif

#endif
