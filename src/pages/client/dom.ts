// Small DOM helpers the pages' modules share.

export function $(root: ParentNode, selector: string): HTMLElement | null {
  return root.querySelector<HTMLElement>(selector);
}

/** An element every page of its kind has: a missing one is a bug in the page. */
export function the(root: ParentNode, selector: string): HTMLElement {
  const element = $(root, selector);
  if (!element) throw new Error(`No ${selector} on this page`);
  return element;
}

export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const element = document.getElementById(id);
  if (!element) throw new Error(`No #${id} on this page`);
  return element as T;
}

export function show(element: HTMLElement | null, text: string) {
  if (!element) return;
  element.textContent = text;
  element.hidden = !text;
}

/** Shows a confirmation in the root's status box and moves the focus to it, so a screen reader reads it. */
export function status(root: ParentNode, text: string) {
  const box = the(root, '[data-form-status]');
  show(box, text);
  box.focus();
}
