/* SPDX-License-Identifier: MIT */
/* placeholder until the executor lands: the lead's side of its API */
#pragma once
#include <stdint.h>
struct vm;
void vm_exec_kick(struct vm *vm);
int vm_exec_cancel(struct vm *vm, int64_t plan_id, const char *reason);
