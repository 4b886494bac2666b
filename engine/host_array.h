// HostArray<T>: a fixed-size array of a trivially copyable T in host memory, left
// uninitialized when it is made. Its memory is either its own heap allocation or a block
// lent by an owner (a GPU backend's pinned staging memory) that gets it back when the last
// array sharing the block dies, on whatever thread that happens.
//
// It is what a BatchResult holds its outputs in: a backend writes every element, so the
// zero-fill a std::vector would do is wasted work, and a GPU backend can copy results
// straight into pinned memory that travels with the result.
//
// Copies are deep (onto the heap); moves are cheap. Thread-safety: as a std::vector.
#ifndef ENSOLVE_ENGINE_HOST_ARRAY_H_
#define ENSOLVE_ENGINE_HOST_ARRAY_H_

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <memory>
#include <type_traits>
#include <utility>

namespace ensolve {

template <class T>
class HostArray {
  static_assert(std::is_trivially_copyable_v<T>, "HostArray holds plain values");

 public:
  using value_type = T;
  using iterator = T*;
  using const_iterator = const T*;
  using size_type = size_t;

  HostArray() = default;
  // `n` elements on the heap, uninitialized.
  explicit HostArray(size_t n) { Allocate(n); }
  // `n` elements at `data`, lent by `owner`: the memory stays valid while any copy of
  // `owner` lives (its deleter gives the block back).
  HostArray(T* data, size_t n, std::shared_ptr<void> owner)
      : data_(data), size_(n), owner_(std::move(owner)) {}

  HostArray(const HostArray& o) { CopyFrom(o); }
  HostArray& operator=(const HostArray& o) {
    if (this != &o) CopyFrom(o);
    return *this;
  }
  HostArray(HostArray&& o) noexcept
      : data_(std::exchange(o.data_, nullptr)),
        size_(std::exchange(o.size_, 0)),
        owner_(std::move(o.owner_)),
        heap_(std::exchange(o.heap_, false)) {}
  HostArray& operator=(HostArray&& o) noexcept {
    data_ = std::exchange(o.data_, nullptr);
    size_ = std::exchange(o.size_, 0);
    owner_ = std::move(o.owner_);
    heap_ = std::exchange(o.heap_, false);
    return *this;
  }

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  T* data() { return data_; }
  const T* data() const { return data_; }
  T& operator[](size_t i) { return data_[i]; }
  const T& operator[](size_t i) const { return data_[i]; }
  T* begin() { return data_; }
  T* end() { return data_ + size_; }
  const T* begin() const { return data_; }
  const T* end() const { return data_ + size_; }

  // Sets every element to `v`.
  void Fill(const T& v) { std::fill(begin(), end(), v); }
  // Whether the memory was lent by an owner rather than allocated here (for tests).
  bool borrowed() const { return owner_ != nullptr && !heap_; }

  // Element-wise, as std::vector's (so NaN != NaN).
  // Bit for bit (so NaNs, which mark unreached save points, compare equal to themselves).
  friend bool operator==(const HostArray& a, const HostArray& b) {
    return a.size_ == b.size_ && (a.size_ == 0 || std::memcmp(a.data(), b.data(), a.size_ * sizeof(T)) == 0);
  }
  friend bool operator!=(const HostArray& a, const HostArray& b) { return !(a == b); }

 private:
  void Allocate(size_t n) {
    // new T[n] default-initializes: no zero-fill for plain values.
    std::shared_ptr<T> block(n > 0 ? new T[n] : nullptr, std::default_delete<T[]>());
    data_ = block.get();
    size_ = n;
    owner_ = std::move(block);
    heap_ = true;
  }
  void CopyFrom(const HostArray& o) {
    Allocate(o.size_);
    if (o.size_ > 0) std::memcpy(data_, o.data_, o.size_ * sizeof(T));
  }

  T* data_ = nullptr;
  size_t size_ = 0;
  std::shared_ptr<void> owner_;
  bool heap_ = false;
};

}  // namespace ensolve

#endif  // ENSOLVE_ENGINE_HOST_ARRAY_H_
