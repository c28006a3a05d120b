/*
 * reader.h - moved to pipeline/reader.h (the read side, beside sink.h).
 *
 * Kept only so that branches written before the move still build; include
 * "pipeline/reader.h" in new code. Remove once nothing includes this.
 */
#include "pipeline/reader.h"
