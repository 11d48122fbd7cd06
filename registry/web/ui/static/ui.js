// promptship ui: the few things a page of plain forms cannot do alone. Everything works
// without this file; with it, the Promote dialog is modal, Escape closes it and focus returns
// to the button that opened it.
"use strict";

function closeDialog(dialog) {
  dialog.close();
  const back = dialog.dataset.cancel;
  if (back) {
    history.replaceState(null, "", back);
  }
  const opener = document.querySelector('[data-opens="' + dialog.id + '"]');
  if (opener) {
    opener.focus();
  }
}

function setUpDialog(dialog) {
  if (dialog.open) {
    // Served open (it works without JavaScript that way); shown again as a modal dialog, which
    // keeps focus inside it and closes on Escape.
    dialog.close();
    dialog.showModal();
  }
  dialog.addEventListener("cancel", (event) => {
    event.preventDefault();
    closeDialog(dialog);
  });
  for (const link of dialog.querySelectorAll("[data-close]")) {
    link.addEventListener("click", (event) => {
      event.preventDefault();
      closeDialog(dialog);
    });
  }
}

function setUpProposal(form) {
  const box = form.querySelector("#pr");
  if (!box) {
    return;
  }
  const fields = [form.querySelector("#branch"), form.querySelector("#push")];
  const follow = () => {
    for (const field of fields) {
      if (field) {
        field.disabled = !box.checked;
      }
    }
  };
  box.addEventListener("change", follow);
  follow();
}

document.addEventListener("DOMContentLoaded", () => {
  for (const dialog of document.querySelectorAll("dialog[data-modal]")) {
    setUpDialog(dialog);
    setUpProposal(dialog);
  }
});
