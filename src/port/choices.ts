/** A typed answer to a multiple-choice question: the choice's number or its text. */
export function matchChoice(choices: readonly string[], text: string): string | undefined {
  const typed = text.trim().toLowerCase();
  if (/^\d+$/.test(typed)) return choices[Number(typed) - 1];
  return choices.find((choice) => choice.toLowerCase() === typed);
}
