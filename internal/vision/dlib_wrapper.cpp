// dlib shape-predictor wrapper for package vision. See dlib_wrapper.h.
//
// The grey image is passed to dlib as a zero-copy strided view. dlib's
// generic image interface finds num_rows/num_columns/image_data/width_step
// by argument-dependent lookup, so they are free functions in the view's
// own namespace (lcvision); only image_traits<> is specialised in dlib.
//
// dlib::shape_predictor::operator() rounds its result to integer pixels,
// which is too coarse for eye-aspect ratios on 100-pixel faces. The model is
// therefore read into float_predictor, which holds the same fields (same
// serialization format, version 1) and runs the same cascade through dlib's
// public impl:: helpers, but keeps the sub-pixel coordinates.

#include "dlib_wrapper.h"

#include <cstdlib>
#include <cstring>
#include <exception>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <dlib/image_processing/generic_image.h>
#include <dlib/image_processing/shape_predictor.h>
#include <dlib/serialize.h>

namespace lcvision {

// gray_view is a read-only view of an 8-bit grey image owned by the caller.
struct gray_view {
  const unsigned char *data;
  long rows;
  long cols;
  long stride;
};

inline long num_rows(const gray_view &v) { return v.rows; }
inline long num_columns(const gray_view &v) { return v.cols; }
inline const void *image_data(const gray_view &v) { return v.data; }
inline long width_step(const gray_view &v) { return v.stride; }

// float_predictor mirrors dlib::shape_predictor (dlib 19.24) and returns
// sub-pixel part locations. It is immutable after load, so concurrent calls
// of predict are safe.
class float_predictor {
 public:
  void load(const char *path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      throw std::runtime_error(std::string("cannot open ") + path);
    }
    int version = 0;
    dlib::deserialize(version, in);
    if (version != 1) {
      throw dlib::serialization_error(
          "unexpected shape_predictor version (want 1)");
    }
    dlib::deserialize(initial_shape_, in);
    dlib::deserialize(forests_, in);
    dlib::deserialize(anchor_idx_, in);
    dlib::deserialize(deltas_, in);
    if (initial_shape_.size() == 0 || initial_shape_.size() % 2 != 0 ||
        forests_.size() != anchor_idx_.size() ||
        forests_.size() != deltas_.size()) {
      throw dlib::serialization_error("inconsistent shape_predictor model");
    }
  }

  long num_parts() const { return initial_shape_.size() / 2; }

  const dlib::matrix<float, 0, 1> &mean_shape() const { return initial_shape_; }

  template <typename image_type>
  void predict(const image_type &img, const dlib::rectangle &rect,
               float *out) const {
    using namespace dlib::impl;
    dlib::matrix<float, 0, 1> current_shape = initial_shape_;
    std::vector<float> feature_pixel_values;
    for (unsigned long iter = 0; iter < forests_.size(); ++iter) {
      extract_feature_pixel_values(img, rect, current_shape, initial_shape_,
                                   anchor_idx_[iter], deltas_[iter],
                                   feature_pixel_values);
      unsigned long leaf_idx;
      for (unsigned long i = 0; i < forests_[iter].size(); ++i) {
        current_shape += forests_[iter][i](feature_pixel_values, leaf_idx);
      }
    }
    const dlib::point_transform_affine tform = unnormalizing_tform(rect);
    for (long i = 0; i < num_parts(); ++i) {
      dlib::vector<double, 2> p = tform(location(current_shape, i));
      out[2 * i] = static_cast<float>(p.x());
      out[2 * i + 1] = static_cast<float>(p.y());
    }
  }

 private:
  dlib::matrix<float, 0, 1> initial_shape_;
  std::vector<std::vector<dlib::impl::regression_tree> > forests_;
  std::vector<std::vector<unsigned long> > anchor_idx_;
  std::vector<std::vector<dlib::vector<float, 2> > > deltas_;
};

char *dup_error(const char *prefix, const char *what) {
  std::string s(prefix);
  if (what != nullptr && what[0] != '\0') {
    s += ": ";
    s += what;
  }
  char *out = static_cast<char *>(std::malloc(s.size() + 1));
  if (out != nullptr) {
    std::memcpy(out, s.c_str(), s.size() + 1);
  }
  return out;
}

}  // namespace lcvision

namespace dlib {
template <>
struct image_traits<lcvision::gray_view> {
  typedef unsigned char pixel_type;
};
}  // namespace dlib

extern "C" {

lc_predictor lc_predictor_load(const char *path, char **err) {
  *err = nullptr;
  lcvision::float_predictor *sp = nullptr;
  try {
    sp = new lcvision::float_predictor();
    sp->load(path);
    return sp;
  } catch (const std::exception &e) {
    *err = lcvision::dup_error("load shape predictor", e.what());
  } catch (...) {
    *err = lcvision::dup_error("load shape predictor", "unknown C++ exception");
  }
  delete sp;
  return nullptr;
}

void lc_predictor_free(lc_predictor p) {
  delete static_cast<lcvision::float_predictor *>(p);
}

int lc_predictor_parts(lc_predictor p) {
  return static_cast<int>(
      static_cast<lcvision::float_predictor *>(p)->num_parts());
}

int lc_predictor_mean_shape(lc_predictor p, float *out, int max_parts) {
  const lcvision::float_predictor &sp =
      *static_cast<lcvision::float_predictor *>(p);
  if (sp.num_parts() > max_parts) {
    return -1;
  }
  for (long i = 0; i < 2 * sp.num_parts(); ++i) {
    out[i] = sp.mean_shape()(i);
  }
  return static_cast<int>(sp.num_parts());
}

int lc_predictor_run(lc_predictor p, const unsigned char *gray, int width,
                     int height, int stride, long left, long top, long right,
                     long bottom, float *out, int max_parts, char **err) {
  *err = nullptr;
  try {
    const lcvision::float_predictor &sp =
        *static_cast<lcvision::float_predictor *>(p);
    if (sp.num_parts() > max_parts) {
      *err = lcvision::dup_error("shape predictor has too many parts", "");
      return -1;
    }
    lcvision::gray_view img{gray, height, width, stride};
    sp.predict(img, dlib::rectangle(left, top, right, bottom), out);
    return static_cast<int>(sp.num_parts());
  } catch (const std::exception &e) {
    *err = lcvision::dup_error("shape predictor", e.what());
  } catch (...) {
    *err = lcvision::dup_error("shape predictor", "unknown C++ exception");
  }
  return -1;
}

}  // extern "C"
