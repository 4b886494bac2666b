// SHA-256 (FIPS 180-4) for model ids, computed by OpenSSL's libcrypto (already linked into
// ensolved through gRPC) rather than by hand-written code.
#ifndef ENSOLVE_ENGINE_MODEL_SHA256_H_
#define ENSOLVE_ENGINE_MODEL_SHA256_H_

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

struct evp_md_ctx_st;

namespace ensolve {

// An incremental hash. Not thread-safe; one object per hash.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void Update(std::string_view data);
  // Finishes the hash; the object must not be updated afterwards.
  std::array<uint8_t, 32> Digest();

 private:
  evp_md_ctx_st* ctx_;
};

// Lower-case hex SHA-256 of `data` (64 characters).
std::string Sha256Hex(std::string_view data);

}  // namespace ensolve

#endif  // ENSOLVE_ENGINE_MODEL_SHA256_H_
