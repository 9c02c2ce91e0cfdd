# FindRmath: R's standalone math library (Debian r-mathlib), for the t and F
# distributions, so that p-values are R's own. Defines Rmath::Rmath.
find_path(RMATH_INCLUDE_DIR NAMES Rmath.h PATHS /usr/include /usr/share/R/include)
find_library(RMATH_LIBRARY NAMES Rmath)
include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(Rmath REQUIRED_VARS RMATH_LIBRARY RMATH_INCLUDE_DIR)
if(Rmath_FOUND AND NOT TARGET Rmath::Rmath)
  add_library(Rmath::Rmath UNKNOWN IMPORTED)
  set_target_properties(Rmath::Rmath PROPERTIES
    IMPORTED_LOCATION "${RMATH_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${RMATH_INCLUDE_DIR}"
    INTERFACE_COMPILE_DEFINITIONS "MATHLIB_STANDALONE")
endif()
mark_as_advanced(RMATH_INCLUDE_DIR RMATH_LIBRARY)
