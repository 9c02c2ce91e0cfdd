# csvreg_shell.cmake - the shell's side of installing csvreg (issue 16): the
# bash and zsh completion scripts, made at build time by the program itself
# (`csvreg completion bash|zsh`, from the commands' option tables), and the
# Debian package (`cpack -G DEB`, dependencies found by dpkg-shlibdeps).

set(CSVREG_COMPLETION_DIR ${CMAKE_CURRENT_BINARY_DIR}/completion)
add_custom_command(
  OUTPUT ${CSVREG_COMPLETION_DIR}/csvreg ${CSVREG_COMPLETION_DIR}/_csvreg
  COMMAND ${CMAKE_COMMAND} -DCSVREG=$<TARGET_FILE:csvreg> -DOUT=${CSVREG_COMPLETION_DIR}
          -P ${CMAKE_CURRENT_LIST_DIR}/csvreg_completion_gen.cmake
  DEPENDS csvreg ${CMAKE_CURRENT_LIST_DIR}/csvreg_completion_gen.cmake
  COMMENT "Generating the bash and zsh completion scripts"
  VERBATIM)
add_custom_target(csvreg_completion ALL DEPENDS ${CSVREG_COMPLETION_DIR}/csvreg
                                                ${CSVREG_COMPLETION_DIR}/_csvreg)
# The directories bash-completion and Debian's zsh look in (no need to edit
# ~/.bashrc or fpath for a package or a /usr/local install).
install(FILES ${CSVREG_COMPLETION_DIR}/csvreg
        DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions)
install(FILES ${CSVREG_COMPLETION_DIR}/_csvreg
        DESTINATION ${CMAKE_INSTALL_DATADIR}/zsh/vendor-completions)

# Debian package: everything `cmake --install` puts in place, under /usr.
set(CPACK_PACKAGE_NAME csvreg)
set(CPACK_PACKAGE_VENDOR "csvreg")
set(CPACK_PACKAGE_CONTACT "csvreg maintainers <csvreg@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "streaming least-squares regression on CSV files in bounded memory")
set(CPACK_PACKAGE_DESCRIPTION
    "csvreg fits linear regressions to CSV data in one streaming pass (fit, predict, eval, merge, solve), with a C library (libcsvreg) and its header.")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_PACKAGE_SECTION science)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
# dpkg-shlibdeps (dpkg-dev) names the packages of the shared libraries the
# program and libcsvreg.so load; the shlibs file and ldconfig trigger make
# libcsvreg.so.0 usable by other packages.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS ON)
# Stripped, as Debian installs programs; gzip, which every dpkg reads.
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_COMPRESSION_TYPE gzip)
set(CPACK_GENERATOR DEB)
include(CPack)
