# The service benchmark: end-to-end throughput through ensolved vs the engine in-process,
# and Solve-stream MB/s vs a plain gRPC stream of raw bytes. Included from
# bench/CMakeLists.txt; needs the server (ENSOLVE_SERVER=ON).
if(TARGET ensolve_server AND TARGET ensolve_client)
  add_executable(ensolve-service-bench ${CMAKE_CURRENT_LIST_DIR}/service_bench.cc)
  target_link_libraries(ensolve-service-bench PRIVATE ensolve_server ensolve_client)
endif()

# Reductions: a Monte Carlo ensemble's statistics vs its full states through ensolved.
if(TARGET ensolve_server AND TARGET ensolve_client)
  add_executable(ensolve-reduce-bench ${CMAKE_CURRENT_LIST_DIR}/reduce_bench.cc)
  target_link_libraries(ensolve-reduce-bench PRIVATE ensolve_server ensolve_client)
endif()
