# FindFastFloat: the header-only Eisel-Lemire parser (Debian libfast-float-dev).
# Defines FastFloat::FastFloat.
find_path(FASTFLOAT_INCLUDE_DIR NAMES fast_float/fast_float.h)
include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(FastFloat REQUIRED_VARS FASTFLOAT_INCLUDE_DIR)
if(FastFloat_FOUND AND NOT TARGET FastFloat::FastFloat)
  add_library(FastFloat::FastFloat INTERFACE IMPORTED)
  set_target_properties(FastFloat::FastFloat PROPERTIES
    INTERFACE_INCLUDE_DIRECTORIES "${FASTFLOAT_INCLUDE_DIR}")
endif()
mark_as_advanced(FASTFLOAT_INCLUDE_DIR)
