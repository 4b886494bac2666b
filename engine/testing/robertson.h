// Robertson's chemical kinetics (Hairer & Wanner, "Solving ODEs II", IV.1, (1.4);
// shared/acceptance/PROBLEMS.md problem 7): the stiff model every stiff-method test uses.
#ifndef ENSOLVE_ENGINE_TESTING_ROBERTSON_H_
#define ENSOLVE_ENGINE_TESTING_ROBERTSON_H_

namespace ensolve::testing {

inline constexpr char kRobertson[] = R"(# Robertson
state y1 = 1, y2 = 0, y3 = 0
param k1 = 0.04, k2 = 3e7, k3 = 1e4
y1' = -k1*y1 + k3*y2*y3
y2' = k1*y1 - k2*y2^2 - k3*y2*y3
y3' = k2*y2^2
)";

}  // namespace ensolve::testing

#endif  // ENSOLVE_ENGINE_TESTING_ROBERTSON_H_
