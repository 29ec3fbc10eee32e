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

#include <sys/mman.h>

#include <algorithm>
#include <cstdint>
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
  // load reads a dlib shape_predictor file (serialization version 1). The
  // forests are read one tree at a time and packed as they come (see level),
  // so the model is never in memory twice.
  void load(const char *path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      throw std::runtime_error(std::string("cannot open ") + path);
    }
    in.seekg(0, std::ios::end);
    const std::streamoff file_size = in.tellg();
    in.seekg(0, std::ios::beg);
    if (file_size <= 0) {
      throw dlib::serialization_error("empty shape_predictor file");
    }
    int version = 0;
    dlib::deserialize(version, in);
    if (version != 1) {
      throw dlib::serialization_error(
          "unexpected shape_predictor version (want 1)");
    }
    dlib::deserialize(initial_shape_, in);
    const long dim = initial_shape_.size();
    if (dim == 0 || dim % 2 != 0) {
      throw dlib::serialization_error("inconsistent shape_predictor model");
    }
    // Every float of the file takes at least two bytes there, so the leaves
    // need at most twice the file size: reserve that much address space
    // (pages are only used as they are written), 2 MB aligned so that the
    // kernel can back it with huge pages (fewer TLB misses on random reads).
    const size_t huge = 2 << 20;
    reserved_ = (2 * size_t(file_size) + 2 * huge) / huge * huge;
    void *m = mmap(nullptr, reserved_, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (m == MAP_FAILED) {
      reserved_ = 0;
      throw std::runtime_error("cannot reserve memory for the shape predictor");
    }
    mapping_ = m;
    char *aligned = reinterpret_cast<char *>(
        (reinterpret_cast<uintptr_t>(m) + huge - 1) / huge * huge);
    madvise(aligned, reserved_ - huge, MADV_HUGEPAGE);
    float *next = reinterpret_cast<float *>(aligned);
    float *const end = reinterpret_cast<float *>(static_cast<char *>(m) + reserved_);

    unsigned long nlevels = 0;
    dlib::deserialize(nlevels, in);
    if (nlevels == 0 || nlevels > 1000) {
      throw dlib::serialization_error("implausible shape_predictor cascade depth");
    }
    levels_.resize(nlevels);
    dlib::impl::regression_tree tree;
    for (level &lv : levels_) {
      unsigned long ntrees = 0;
      dlib::deserialize(ntrees, in);
      if (ntrees > 100000) {
        throw dlib::serialization_error("implausible shape_predictor forest size");
      }
      lv.leaves = next;
      for (unsigned long t = 0; t < ntrees; ++t) {
        deserialize(tree, in);  // a friend of regression_tree, found by ADL
        if (tree.leaf_values.size() != tree.splits.size() + 1) {
          throw dlib::serialization_error("shape_predictor tree is not full");
        }
        if (size_t(end - next) < tree.leaf_values.size() * size_t(dim)) {
          throw dlib::serialization_error("shape_predictor leaves larger than the file");
        }
        lv.trees.push_back(tree_ref{lv.splits.size(), size_t(next - lv.leaves), tree.splits.size()});
        for (const auto &sp : tree.splits) {
          lv.splits.push_back(split{sp.idx1, sp.idx2, sp.thresh});
        }
        for (const auto &v : tree.leaf_values) {
          if (v.size() != dim) {
            throw dlib::serialization_error("shape_predictor leaf has the wrong size");
          }
          std::memcpy(next, &v(0), dim * sizeof(float));
          next += dim;
        }
      }
      max_trees_ = std::max(max_trees_, size_t(ntrees));
    }
    dlib::deserialize(anchor_idx_, in);
    dlib::deserialize(deltas_, in);
    if (levels_.size() != anchor_idx_.size() || levels_.size() != deltas_.size()) {
      throw dlib::serialization_error("inconsistent shape_predictor model");
    }
    for (size_t iter = 0; iter < levels_.size(); ++iter) {
      const size_t nfeat = anchor_idx_[iter].size();
      if (deltas_[iter].size() != nfeat) {
        throw dlib::serialization_error("inconsistent shape_predictor model");
      }
      for (unsigned long a : anchor_idx_[iter]) {
        if (a >= static_cast<unsigned long>(dim / 2)) {
          throw dlib::serialization_error("shape_predictor anchor index out of range");
        }
      }
      for (const split &sp : levels_[iter].splits) {
        if (sp.idx1 >= nfeat || sp.idx2 >= nfeat) {
          throw dlib::serialization_error("shape_predictor split index out of range");
        }
      }
    }
  }

  ~float_predictor() {
    if (mapping_ != nullptr) {
      munmap(mapping_, reserved_);
    }
  }

  long num_parts() const { return initial_shape_.size() / 2; }

  const dlib::matrix<float, 0, 1> &mean_shape() const { return initial_shape_; }

  // predict runs the cascade like dlib::shape_predictor::operator(), with
  // the same arithmetic in the same order (so the same result to the bit),
  // but faster: within a cascade level every tree reads the same feature
  // values, so all leaves are found first and then summed with the next
  // leaves prefetched. The leaf vectors (most of the 65 MB model) are packed
  // into one array per level; a fit reads ~4 MB of them at random, and
  // without prefetching it waited on memory most of its time.
  template <typename image_type>
  void predict(const image_type &img, const dlib::rectangle &rect,
               float *out) const {
    using namespace dlib::impl;
    dlib::matrix<float, 0, 1> current_shape = initial_shape_;
    // Scratch buffers, one set per OS thread: no allocation per fit.
    thread_local std::vector<float> feature_pixel_values;
    thread_local std::vector<const float *> leaf;
    leaf.resize(max_trees_);
    const long dim = initial_shape_.size();
    for (unsigned long iter = 0; iter < levels_.size(); ++iter) {
      extract_feature_pixel_values(img, rect, current_shape, initial_shape_,
                                   anchor_idx_[iter], deltas_[iter],
                                   feature_pixel_values);
      const level &lv = levels_[iter];
      const float *fv = feature_pixel_values.data();
      for (size_t t = 0; t < lv.trees.size(); ++t) {
        const tree_ref &tr = lv.trees[t];
        const split *sp = lv.splits.data() + tr.split_off;
        unsigned long i = 0;
        while (i < tr.nsplits) {
          if (fv[sp[i].idx1] - fv[sp[i].idx2] > sp[i].thresh) {
            i = 2 * i + 1;
          } else {
            i = 2 * i + 2;
          }
        }
        leaf[t] = lv.leaves + tr.leaf_off + (i - tr.nsplits) * dim;
      }
      float *cs = &current_shape(0);
      const size_t n = lv.trees.size();
      constexpr size_t ahead = 8;
      const long lines = (dim * long(sizeof(float)) + 63) / 64 + 1;
      for (size_t t = 0; t < n && t < ahead; ++t) {
        prefetch(leaf[t], lines);
      }
      for (size_t t = 0; t < n; ++t) {
        if (t + ahead < n) {
          prefetch(leaf[t + ahead], lines);
        }
        const float *lv_t = leaf[t];
        for (long k = 0; k < dim; ++k) {
          cs[k] += lv_t[k];
        }
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
  struct split {
    unsigned long idx1, idx2;
    float thresh;
  };
  struct tree_ref {
    size_t split_off;       // first split in level::splits
    size_t leaf_off;        // first float of its leaves in level::leaves
    unsigned long nsplits;  // a full tree: nsplits + 1 leaves
  };
  struct level {
    std::vector<split> splits;
    std::vector<tree_ref> trees;
    const float *leaves = nullptr;  // every tree's leaf vectors, back to back
  };

  static void prefetch(const float *p, long lines) {
    const char *c = reinterpret_cast<const char *>(p);
    for (long l = 0; l < lines; ++l) {
      __builtin_prefetch(c + 64 * l);
    }
  }

  dlib::matrix<float, 0, 1> initial_shape_;
  std::vector<level> levels_;
  void *mapping_ = nullptr;  // the leaves of every level
  size_t reserved_ = 0;
  size_t max_trees_ = 0;
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

extern "C" int lc_reference_run(const char *path, const unsigned char *gray,
                                int width, int height, int stride, long left,
                                long top, long right, long bottom, long *out,
                                int max_parts, char **err) {
  *err = nullptr;
  try {
    dlib::shape_predictor sp;
    dlib::deserialize(path) >> sp;
    if (static_cast<int>(sp.num_parts()) > max_parts) {
      *err = lcvision::dup_error("shape predictor has too many parts", "");
      return -1;
    }
    lcvision::gray_view img{gray, height, width, stride};
    dlib::full_object_detection d =
        sp(img, dlib::rectangle(left, top, right, bottom));
    for (unsigned long i = 0; i < d.num_parts(); ++i) {
      out[2 * i] = d.part(i).x();
      out[2 * i + 1] = d.part(i).y();
    }
    return static_cast<int>(d.num_parts());
  } catch (const std::exception &e) {
    *err = lcvision::dup_error("reference shape predictor", e.what());
  } catch (...) {
    *err = lcvision::dup_error("reference shape predictor", "unknown C++ exception");
  }
  return -1;
}
