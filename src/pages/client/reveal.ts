// The show-password buttons of password fields (RevealButton in
// src/pages/components.tsx): hidden without this script, shown with it. The
// button's name is its text, from the catalog (data-show-label, data-hide-label).

function conceal(input: HTMLInputElement, button: HTMLButtonElement) {
  input.type = 'password';
  button.textContent = button.dataset.showLabel ?? button.textContent;
}

export function setUpRevealButtons(root: ParentNode) {
  for (const button of root.querySelectorAll<HTMLButtonElement>('button[data-reveal]')) {
    const input = document.getElementById(button.dataset.reveal ?? '');
    if (!(input instanceof HTMLInputElement)) continue;
    button.hidden = false;
    button.addEventListener('click', () => {
      if (input.type === 'text') return conceal(input, button);
      input.type = 'text';
      button.textContent = button.dataset.hideLabel ?? button.textContent;
      input.focus();
    });
    // A password manager saves what a form sends as a password only from a password field.
    input.form?.addEventListener('submit', () => conceal(input, button), { capture: true });
  }
}
