# Fetches VADER's English sentiment lexicon (MIT licence) from its npm package at
# build time and turns it into a C++ source, so that the binaries carry it and the
# repository carries none of it. npm's cache makes later builds work offline.
set(VIGIL_VADER_PACKAGE "vader-sentiment@1.1.3" CACHE STRING "npm package that ships vader_lexicon.txt")
set(VIGIL_VADER_DIR ${CMAKE_BINARY_DIR}/vader)
set(VIGIL_VADER_TXT ${VIGIL_VADER_DIR}/package/vader_lexicon.txt)
set(VIGIL_VADER_CC ${CMAKE_BINARY_DIR}/generated/vader_lexicon_data.cc)

find_program(NPM_PROGRAM npm REQUIRED)
add_custom_command(
  OUTPUT ${VIGIL_VADER_TXT}
  COMMAND ${CMAKE_COMMAND} -E make_directory ${VIGIL_VADER_DIR}
  COMMAND ${NPM_PROGRAM} pack --silent --pack-destination ${VIGIL_VADER_DIR} ${VIGIL_VADER_PACKAGE}
  COMMAND ${CMAKE_COMMAND} -DDIR=${VIGIL_VADER_DIR} -P ${CMAKE_SOURCE_DIR}/cmake/extract_vader.cmake
  COMMENT "Fetching the VADER lexicon from npm (${VIGIL_VADER_PACKAGE})"
  VERBATIM)
add_custom_command(
  OUTPUT ${VIGIL_VADER_CC}
  COMMAND ${CMAKE_COMMAND} -DINPUT=${VIGIL_VADER_TXT} -DOUTPUT=${VIGIL_VADER_CC} -DSYMBOL=kVaderLexicon
          -P ${CMAKE_SOURCE_DIR}/cmake/embed_text.cmake
  DEPENDS ${VIGIL_VADER_TXT} ${CMAKE_SOURCE_DIR}/cmake/embed_text.cmake
  COMMENT "Embedding the VADER lexicon"
  VERBATIM)
