/* net.c: the executable's side of the net.so module (see net.h). */
#include "helper/base/module.h"
#include "helper/api/net.h"

const struct api_ops *api_load(void)
{
	static const struct api_ops *ops;

	if (!ops)
		ops = module_symbol("net", "api_ops");
	return ops;
}
