// SHA-256 (FIPS 180-4), used for model ids. Small and dependency-free; not constant-time
// (it hashes public model text, not secrets).
#ifndef ENSOLVE_ENGINE_MODEL_SHA256_H_
#define ENSOLVE_ENGINE_MODEL_SHA256_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace ensolve {

class Sha256 {
 public:
  Sha256();
  void Update(std::string_view data);
  // Finishes the hash; the object must not be updated afterwards.
  std::array<uint8_t, 32> Digest();

 private:
  void Block(const uint8_t* p);

  uint32_t h_[8];
  uint8_t buf_[64];
  size_t buf_len_ = 0;
  uint64_t total_bytes_ = 0;
};

// Lower-case hex SHA-256 of `data` (64 characters).
std::string Sha256Hex(std::string_view data);

}  // namespace ensolve

#endif  // ENSOLVE_ENGINE_MODEL_SHA256_H_
