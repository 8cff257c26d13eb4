#include <boost/url/src.hpp>  // Boost.URL, header-only mode: compiled once, here
