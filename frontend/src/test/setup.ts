import '@testing-library/jest-dom/vitest';

// jsdom has no HTMLDialogElement.showModal()/close(); give it the minimum the
// components rely on: the open attribute, the close event and returnValue.
if (typeof HTMLDialogElement !== 'undefined' && !HTMLDialogElement.prototype.showModal) {
  HTMLDialogElement.prototype.showModal = function (this: HTMLDialogElement) {
    this.open = true;
  };
  HTMLDialogElement.prototype.close = function (this: HTMLDialogElement, value?: string) {
    if (value !== undefined) this.returnValue = value;
    this.open = false;
    this.dispatchEvent(new Event('close'));
  };
}

// jsdom has no layout and no ResizeObserver (Svelte's bind:clientHeight uses
// it); an observer that never fires leaves sizes at 0, which the virtual
// table treats as "assume a laptop-sized viewport".
if (typeof globalThis.ResizeObserver === 'undefined') {
  globalThis.ResizeObserver = class {
    observe() {}
    unobserve() {}
    disconnect() {}
  } as unknown as typeof ResizeObserver;
}
