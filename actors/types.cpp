// Message records are header-only; this unit keeps the library's object list stable.
#include "actors/types.hpp"
