/** One result value as text: NULL marked as such, lists and structs as JSON, never as HTML. */
export function Cell(props: { value: unknown }) {
  const { value } = props;
  return <td>{value === null ? <span className="null">null</span> : typeof value === 'object' ? JSON.stringify(value) : String(value)}</td>;
}
