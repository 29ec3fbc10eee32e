// Validation of OpenCV cascade files, used by face.go before gocv loads
// them (gocv's CascadeClassifier.Load does not catch cv::Exception, so a
// corrupt file would abort the process).
#ifndef LIVECHECK_CASCADE_CHECK_H
#define LIVECHECK_CASCADE_CHECK_H

#ifdef __cplusplus
extern "C" {
#endif

// lc_cascade_check loads the cascade at path into a throw-away classifier.
// It returns 1 if it loads, else 0 with a malloc'd message in *err.
int lc_cascade_check(const char *path, char **err);

// lc_cv_set_threads sets the size of OpenCV's thread pool (cv::setNumThreads).
void lc_cv_set_threads(int n);

#ifdef __cplusplus
}
#endif

#endif
