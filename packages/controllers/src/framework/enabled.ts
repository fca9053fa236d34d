import type { ControllerDescriptor } from './controller.js';

/**
 * The controllers `--controllers` turns on, as kube-controller-manager reads it: a comma-separated
 * list where `*` means every controller on by default, `name` turns one on and `-name` turns one off
 * (a `-name` wins over `*`). An unknown name is an error, as upstream.
 */
export function enabledControllers(spec: readonly string[], descriptors: readonly ControllerDescriptor[]): ControllerDescriptor[] {
  const known = new Map(descriptors.map((descriptor) => [descriptor.name, descriptor]));
  const items = spec.map((item) => item.trim()).filter((item) => item !== '');
  for (const item of items) {
    const name = item.startsWith('-') ? item.slice(1) : item;
    if (item !== '*' && !known.has(name)) throw new Error(`"${name}" is not in the list of known controllers`);
  }
  const star = items.includes('*');
  return descriptors.filter((descriptor) => {
    if (items.includes(`-${descriptor.name}`)) return false;
    if (items.includes(descriptor.name)) return true;
    return star && descriptor.enabledByDefault;
  });
}
