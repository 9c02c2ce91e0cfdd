# csvreg_package.cmake - what lets other projects find an installed csvreg:
# the pkg-config file csvreg.pc and the CMake package csvreg (csvreg::csvreg).
# Both are relocatable: they find the prefix from where they are installed, so
# `cmake --install build --prefix DIR` and DESTDIR installs work unchanged.

# pkg-config: ${pcfiledir} is the directory of csvreg.pc, LIBDIR/pkgconfig.
if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}")
  set(CSVREG_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")
  set(CSVREG_PC_LIBDIR "${CMAKE_INSTALL_LIBDIR}")
else()
  file(RELATIVE_PATH CSVREG_PC_UP "/root/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/root")
  string(REGEX REPLACE "/$" "" CSVREG_PC_UP "${CSVREG_PC_UP}")
  set(CSVREG_PC_PREFIX "\${pcfiledir}/${CSVREG_PC_UP}")
  set(CSVREG_PC_LIBDIR "\${prefix}/${CMAKE_INSTALL_LIBDIR}")
endif()
if(IS_ABSOLUTE "${CMAKE_INSTALL_INCLUDEDIR}")
  set(CSVREG_PC_INCLUDEDIR "${CMAKE_INSTALL_INCLUDEDIR}")
else()
  set(CSVREG_PC_INCLUDEDIR "\${prefix}/${CMAKE_INSTALL_INCLUDEDIR}")
endif()
set(CSVREG_DL_LIBS_FLAG)
foreach(lib ${CMAKE_DL_LIBS}) # dladdr (src/util/status.c); empty where libc has it
  string(APPEND CSVREG_DL_LIBS_FLAG " -l${lib}")
endforeach()
configure_file(${CMAKE_CURRENT_LIST_DIR}/csvreg.pc.in ${CMAKE_CURRENT_BINARY_DIR}/csvreg.pc @ONLY)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/csvreg.pc
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

# CMake: find_package(csvreg) imports csvreg::csvreg, the shared library,
# whose dependencies are its own (DT_NEEDED), so the package needs no
# find_dependency. Static linking is pkg-config's (--static) job.
if(TARGET csvreg_shared)
  include(CMakePackageConfigHelpers)
  set(CSVREG_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/csvreg)
  install(TARGETS csvreg_shared EXPORT csvreg-targets
          LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
          INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
  install(EXPORT csvreg-targets NAMESPACE csvreg:: DESTINATION ${CSVREG_CMAKE_DIR})
  configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/csvreg-config.cmake.in
                                ${CMAKE_CURRENT_BINARY_DIR}/csvreg-config.cmake
                                INSTALL_DESTINATION ${CSVREG_CMAKE_DIR})
  # 0.x: a new minor version may change the API, so only the same minor matches.
  write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/csvreg-config-version.cmake
                                   COMPATIBILITY SameMinorVersion)
  install(FILES ${CMAKE_CURRENT_BINARY_DIR}/csvreg-config.cmake
                ${CMAKE_CURRENT_BINARY_DIR}/csvreg-config-version.cmake
          DESTINATION ${CSVREG_CMAKE_DIR})
endif()
