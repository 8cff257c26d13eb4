# RE2 has no runtime version API, so its version is taken at configure time into
# VIGIL_RE2_VERSION. pkg-config's is used when it says something; Debian's re2.pc says
# "0.0.0", so then the version of the package that ships re2.pc (20220601+dfsg-1+b1 ->
# 20220601), and "unknown" when neither is known.
set(VIGIL_RE2_VERSION "${RE2_VERSION}")
if(VIGIL_RE2_VERSION STREQUAL "" OR VIGIL_RE2_VERSION STREQUAL "0.0.0")
  set(VIGIL_RE2_VERSION "unknown")
  pkg_get_variable(re2_pcfiledir re2 pcfiledir)
  find_program(DPKG_QUERY_PROGRAM dpkg-query)
  if(DPKG_QUERY_PROGRAM AND EXISTS "${re2_pcfiledir}/re2.pc")
    execute_process(COMMAND ${DPKG_QUERY_PROGRAM} --search "${re2_pcfiledir}/re2.pc"
                    OUTPUT_VARIABLE re2_owner OUTPUT_STRIP_TRAILING_WHITESPACE
                    RESULT_VARIABLE re2_rc ERROR_QUIET)
    if(re2_rc EQUAL 0)
      string(REGEX REPLACE ":.*" "" re2_package "${re2_owner}")
      execute_process(COMMAND ${DPKG_QUERY_PROGRAM} --show --showformat=\${Version} ${re2_package}
                      OUTPUT_VARIABLE re2_deb_version OUTPUT_STRIP_TRAILING_WHITESPACE
                      RESULT_VARIABLE re2_rc ERROR_QUIET)
      # epoch:upstream+dfsg-revision -> upstream
      string(REGEX REPLACE "^[0-9]+:" "" re2_deb_version "${re2_deb_version}")
      string(REGEX REPLACE "[+~-].*$" "" re2_deb_version "${re2_deb_version}")
      if(re2_rc EQUAL 0 AND NOT re2_deb_version STREQUAL "")
        set(VIGIL_RE2_VERSION "${re2_deb_version}")
      endif()
    endif()
  endif()
endif()
message(STATUS "RE2 version: ${VIGIL_RE2_VERSION}")
