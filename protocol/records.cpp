// Message records are header-only; this unit keeps the library's object list stable.
#include "protocol/records.hpp"
