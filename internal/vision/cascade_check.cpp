// See cascade_check.h.

#include "cascade_check.h"

#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>

#include <opencv2/core/utility.hpp>
#include <opencv2/objdetect.hpp>

namespace {

char *dup_string(const std::string &s) {
  char *out = static_cast<char *>(std::malloc(s.size() + 1));
  if (out != nullptr) {
    std::memcpy(out, s.c_str(), s.size() + 1);
  }
  return out;
}

}  // namespace

extern "C" int lc_cascade_check(const char *path, char **err) {
  *err = nullptr;
  try {
    cv::CascadeClassifier c;
    if (!c.load(path) || c.empty()) {
      *err = dup_string("not a loadable OpenCV cascade");
      return 0;
    }
    return 1;
  } catch (const std::exception &e) {
    *err = dup_string(std::string("not a loadable OpenCV cascade: ") + e.what());
  } catch (...) {
    *err = dup_string("not a loadable OpenCV cascade: unknown C++ exception");
  }
  return 0;
}

extern "C" void lc_cv_set_threads(int n) { cv::setNumThreads(n); }
