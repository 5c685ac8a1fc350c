#!/bin/bash
# boot_pxe.sh with the store on PostgreSQL (issue 15): bootsvc's store = postgresql://
# to a server lib_pg.sh starts in the test's namespace, reached over TCP with a password.
# Everything boot_pxe.sh checks must hold on it too.
DL_STORE=pg DL_OCTET=100 exec bash "$(dirname "$0")/boot_pxe.sh"
