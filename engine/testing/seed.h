// Seeds of the tests' random inputs: fresh each run and logged, so that a failure can be
// repeated (ENSOLVE_TEST_SEED=<seed> fixes every seed of a run).
#ifndef ENSOLVE_ENGINE_TESTING_SEED_H_
#define ENSOLVE_ENGINE_TESTING_SEED_H_

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>

namespace ensolve::testing {

// A fresh seed (or ENSOLVE_TEST_SEED's), printed with `what`.
inline uint64_t TestSeed(const char* what) {
  const char* env = std::getenv("ENSOLVE_TEST_SEED");
  const uint64_t seed = env != nullptr ? std::strtoull(env, nullptr, 10) : std::random_device{}();
  std::printf("%s seed: %llu (ENSOLVE_TEST_SEED=%llu repeats it)\n", what,
              static_cast<unsigned long long>(seed), static_cast<unsigned long long>(seed));
  return seed;
}

}  // namespace ensolve::testing

#endif  // ENSOLVE_ENGINE_TESTING_SEED_H_
