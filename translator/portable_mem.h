/* translator/portable_mem.h: the memory micro-ops of run_blocks
 * (portable.c), a fragment of its body included there twice, once per
 * address form: ML(kind) names the label, MK(kind) the kind as this copy
 * numbers it, UOP_EA() the effective address (any 32-bit form, base +
 * displacement, base + index*scale + displacement or index*scale +
 * displacement, the last three without tests of the form). Each one
 * takes the TLB's direct entry (UOP_MEM) or falls back to impure, with
 * nothing changed yet. Not a header for anything else.
 */
#define X(NAME, EXPR, LAZY, WRITES)                                              \
    ML(U_##NAME##_RM32): {                                                      \
        UOP_MEM(4, kind_read);                                                   \
        uint32_t a = gpr[in->opnd[0].reg], b = host_load(p, 4);                  \
        uint32_t r = (EXPR);                                                     \
        if (WRITES)                                                              \
            gpr[in->opnd[0].reg] = r;                                            \
        uop_flags(cpu, LAZY, r, a, b, 4);                                        \
        NEXT;                                                             \
    }                                                                            \
    ML(U_##NAME##_MR32): {                                                      \
        UOP_MEM_AT(UOP_EA(), 4, WRITES ? kind_write : kind_read,                 \
                   WRITES ? kind_write_tag : kind_read_tag);                     \
        uint32_t a = host_load(p, 4), b = gpr[in->opnd[1].reg];                  \
        uint32_t r = (EXPR);                                                     \
        if (WRITES)                                                              \
            host_store(p, r, 4);                                                 \
        uop_flags(cpu, LAZY, r, a, b, 4);                                        \
        NEXT;                                                                    \
    }                                                                            \
    ML(U_##NAME##_MI32): {                                                      \
        UOP_MEM_AT(UOP_EA(), 4, WRITES ? kind_write : kind_read,                 \
                   WRITES ? kind_write_tag : kind_read_tag);                     \
        uint32_t a = host_load(p, 4), b = in->imm;                               \
        uint32_t r = (EXPR);                                                     \
        if (WRITES)                                                              \
            host_store(p, r, 4);                                                 \
        uop_flags(cpu, LAZY, r, a, b, 4);                                        \
        NEXT;                                                                    \
    }                                                                            \
    ML(U_##NAME##_RM8): {   /* (AL..BH: cpu_reg8's numbering) */                \
        UOP_MEM(1, kind_read);                                                   \
        uint32_t a = cpu_reg8(cpu, in->opnd[0].reg), b = *p;                     \
        uint32_t r = (EXPR) & 0xFFu;                                             \
        if (WRITES)                                                              \
            cpu_set_reg8(cpu, in->opnd[0].reg, (uint8_t)r);                      \
        uop_flags(cpu, LAZY, r, a, b, 1);                                        \
        NEXT;                                                                    \
    }                                                                            \
    ML(U_##NAME##_MR8): {                                                       \
        UOP_MEM_AT(UOP_EA(), 1, WRITES ? kind_write : kind_read,                 \
                   WRITES ? kind_write_tag : kind_read_tag);                     \
        uint32_t a = *p, b = cpu_reg8(cpu, in->opnd[1].reg);                     \
        uint32_t r = (EXPR) & 0xFFu;                                             \
        if (WRITES)                                                              \
            *p = (uint8_t)r;                                                     \
        uop_flags(cpu, LAZY, r, a, b, 1);                                        \
        NEXT;                                                                    \
    }                                                                            \
    ML(U_##NAME##_MI8): {                                                       \
        UOP_MEM_AT(UOP_EA(), 1, WRITES ? kind_write : kind_read,                 \
                   WRITES ? kind_write_tag : kind_read_tag);                     \
        uint32_t a = *p, b = in->imm & 0xFFu;                                    \
        uint32_t r = (EXPR) & 0xFFu;                                             \
        if (WRITES)                                                              \
            *p = (uint8_t)r;                                                     \
        uop_flags(cpu, LAZY, r, a, b, 1);                                        \
        NEXT;                                                                    \
    }
    UOP_ALU_OPS(X)
#undef X
    ML(U_MOV_RM32):
        UOP_MEM(4, kind_read);
        gpr[in->opnd[0].reg] = host_load(p, 4);
        NEXT;
    ML(U_MOV_MR32):
        UOP_MEM(4, kind_write);
        host_store(p, gpr[in->opnd[1].reg], 4);
        NEXT;
    ML(U_MOV_MI32):
        UOP_MEM(4, kind_write);
        host_store(p, in->imm, 4);
        NEXT;
    ML(U_MOVZX_R32_M8):
        UOP_MEM(1, kind_read);
        gpr[in->opnd[0].reg] = *p;
        NEXT;
    ML(U_MOV_RM8):
        UOP_MEM(1, kind_read);
        cpu_set_reg8(cpu, in->opnd[0].reg, *p);
        NEXT;
    ML(U_MOV_MR8):
        UOP_MEM(1, kind_write);
        *p = cpu_reg8(cpu, in->opnd[1].reg);
        NEXT;
    ML(U_CMP_R8M8):
    ML(U_CMP_M8R8): {
        UOP_MEM(1, kind_read);
        bool reg_first = ti->kind == MK(U_CMP_R8M8);
        uint32_t reg = cpu_reg8(cpu, in->opnd[reg_first ? 0 : 1].reg);
        uint32_t a = reg_first ? reg : *p, b = reg_first ? *p : reg;
        uop_flags(cpu, LF_SUB, (a - b) & 0xFFu, a, b, 1);
        NEXT;
    }
    ML(U_INC_M32):
    ML(U_DEC_M32): {
        UOP_MEM(4, kind_write);
        bool inc = ti->kind == MK(U_INC_M32);
        uint32_t a = host_load(p, 4), r = inc ? a + 1 : a - 1;
        host_store(p, r, 4);
        uop_flags(cpu, inc ? LF_INC : LF_DEC, r, a, lf_carry(cpu), 4);
        NEXT;
    }
    ML(U_MOV_MR16):
        UOP_MEM(2, kind_write);
        host_store(p, gpr[in->opnd[1].reg], 2);
        NEXT;
    ML(U_MOV_MI8):
        UOP_MEM(1, kind_write);
        *p = (uint8_t)in->imm;
        NEXT;
    ML(U_MOVZX_R32_M16):
        UOP_MEM(2, kind_read);
        gpr[in->opnd[0].reg] = host_load(p, 2);
        NEXT;
    ML(U_CMP_R16M16):
    ML(U_CMP_M16R16): {
        UOP_MEM(2, kind_read);
        bool reg_first = ti->kind == MK(U_CMP_R16M16);
        uint32_t reg = gpr[in->opnd[reg_first ? 0 : 1].reg] & 0xFFFFu, mem = host_load(p, 2);
        uint32_t a = reg_first ? reg : mem, b = reg_first ? mem : reg;
        uop_flags(cpu, LF_SUB, (a - b) & 0xFFFFu, a, b, 2);
        NEXT;
    }
    ML(U_PUSH_R32): {
        uint32_t esp = gpr[R_ESP] - 4;
        UOP_MEM_AT(esp, 4, kind_write, kind_write_tag);   /* SS flat */
        host_store(p, gpr[in->opnd[0].reg], 4);   /* PUSH ESP: the old value */
        gpr[R_ESP] = esp;
        NEXT;
    }
    ML(U_PUSH_I32): {
        uint32_t esp = gpr[R_ESP] - 4;
        UOP_MEM_AT(esp, 4, kind_write, kind_write_tag);   /* SS flat */
        host_store(p, in->imm, 4);
        gpr[R_ESP] = esp;
        NEXT;
    }
    ML(U_PUSH_M32): {   /* the address with the old ESP, then the push */
        UOP_MEM(4, kind_read);
        uint32_t value = host_load(p, 4), esp = gpr[R_ESP] - 4;
        UOP_MEM_AT(esp, 4, kind_write, kind_write_tag);
        host_store(p, value, 4);
        gpr[R_ESP] = esp;
        NEXT;
    }
    ML(U_POP_R32): {
        uint32_t esp = gpr[R_ESP];
        UOP_MEM_AT(esp, 4, kind_read, kind_read_tag);
        uint32_t value = host_load(p, 4);
        gpr[R_ESP] = esp + 4;
        gpr[in->opnd[0].reg] = value;   /* POP ESP: the popped value wins */
        NEXT;
    }
