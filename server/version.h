// The version ensolved reports in GetServerInfo.
#ifndef ENSOLVE_SERVER_VERSION_H_
#define ENSOLVE_SERVER_VERSION_H_

namespace ensolve::server {

inline constexpr char kVersion[] = "0.1.0";

}  // namespace ensolve::server

#endif  // ENSOLVE_SERVER_VERSION_H_
