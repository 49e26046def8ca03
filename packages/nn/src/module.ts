/**
 * Modules as PyTorch and MLX have them: a module's parameters and submodules are its fields, named
 * as the checkpoint names them, so `layers.3.self_attn.q_proj.weight` is found by walking the tree
 * (`namedParameters`), never looked up in a table. Arrays of modules are walked by index
 * (`layers.0`, `layers.1`, ...); a module whose children are not its fields says so by
 * overriding `children()`.
 */
import { Parameter } from './parameter.js';

export type Child = Module | Parameter;

/** A field's value as children: a module or parameter, or an array of them (named by index); nothing else. */
function childrenOf(name: string, value: unknown): [string, Child][] {
  if (value instanceof Module || value instanceof Parameter) return [[name, value]];
  if (Array.isArray(value)) return value.flatMap((item, i) => childrenOf(`${name}.${i}`, item));
  return [];
}

export abstract class Module {
  /** The parameters and submodules directly below this module, under their checkpoint names. */
  children(): [string, Child][] {
    return Object.entries(this).flatMap(([name, value]) => childrenOf(name, value));
  }

  /** Every parameter below this module, named from `prefix` (e.g. `model.`) as the checkpoint names it. */
  namedParameters(prefix = ''): [string, Parameter][] {
    return this.children().flatMap(([name, child]) =>
      child instanceof Parameter
        ? [[`${prefix}${name}`, child] as [string, Parameter]]
        : child.namedParameters(`${prefix}${name}.`),
    );
  }

  /** This module and every module below it, depth first in field order. */
  *modules(): Generator<Module> {
    yield this;
    for (const [, child] of this.children()) if (child instanceof Module) yield* child.modules();
  }

  /** Frees every loaded parameter below this module. */
  dispose(): void {
    for (const [, parameter] of this.namedParameters()) parameter.release();
  }
}
