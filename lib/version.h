/* SPDX-License-Identifier: MIT */
#pragma once
#define DISKLESS_VERSION "0.1.0"
