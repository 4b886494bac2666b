// Models shared by the CUDA backend's tests.
#ifndef ENSOLVE_ENGINE_CUDA_TEST_MODELS_H_
#define ENSOLVE_ENGINE_CUDA_TEST_MODELS_H_

#include "engine/testing/lorenz.h"
#include "engine/testing/robertson.h"

namespace ensolve::cuda::testing {

inline constexpr auto& kLorenz = ensolve::testing::kLorenz;

inline constexpr auto& kRobertson = ensolve::testing::kRobertson;

// Every function and operator of the model language, the time variable, lets and a
// parameter-free state; smooth and bounded on t in [0, 1] from the defaults.
inline constexpr char kEveryFunction[] = R"(# every function
state a = 0.5, b = 0.8, c = 0.3, d = 1
param k = 1.3, w = 2
let s = sin(w*t) + cos(a) + tan(0.3*c)
let inv = asin(0.5*tanh(a)) + acos(0.3*sin(b)) + atan(c) + atan2(b, a + 3)
let hyp = sinh(0.2*a)/cosh(b) + exp(-a*b) + log(1 + b^2) + log10(2 + a^2)
let pw = sqrt(c + 2) + pow(a + 2, c) + (a^2 + 1)^-1 + abs(b - 1)^1.5 + b^3
let pcw = floor(3.5 + a) + ceil(b) + sign(c - 0.1) + min(a, b) + max(c, 0.2)
let logic = ifelse(a > b, a, b) + ifelse(a < 0 || b >= 1, 1, 0) + (!(c <= 2)) + (a == b) + (a != b) + (b > 0 && c > 0)
a' = -k*a + 0.1*s
b' = 0.05*inv - 0.5*b + 0.01*hyp
c' = 0.01*pw - c + 0.01*pcw*t
d' = -0.1*d + 0.01*logic
)";

}  // namespace ensolve::cuda::testing

#endif  // ENSOLVE_ENGINE_CUDA_TEST_MODELS_H_
