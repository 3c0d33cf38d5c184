import type { Extension } from '@codemirror/state';
import { basicSetup, EditorView } from 'codemirror';
import { useEffect, useImperativeHandle, useRef, type Ref } from 'react';

/** What a page does with its editor: read and replace the text, and reach the view for extensions. */
export interface CodeEditorHandle {
  text(): string;
  setText(text: string): void;
  view(): EditorView | null;
}

/**
 * CodeMirror 6 in a shadow root. There its styles are constructed style sheets (adoptedStyleSheets),
 * which the strict CSP allows; in the document itself they would be inline <style> elements.
 * `extensions` is read once, when the editor is made (`ready` false keeps it unmade until then).
 */
export function CodeEditor(props: { label: string; initial: string; extensions: readonly Extension[]; ready?: boolean; ref?: Ref<CodeEditorHandle>; onChange?: () => void }) {
  const host = useRef<HTMLDivElement>(null);
  const editor = useRef<EditorView | null>(null);
  const onChange = useRef(props.onChange);
  onChange.current = props.onChange;

  useImperativeHandle(props.ref, () => ({
    text: () => editor.current?.state.doc.toString() ?? '',
    setText: (text: string) => editor.current?.dispatch({ changes: { from: 0, to: editor.current.state.doc.length, insert: text } }),
    view: () => editor.current,
  }));

  const ready = props.ready !== false;
  useEffect(() => {
    if (!ready || host.current === null) return;
    const shadow = host.current.shadowRoot ?? host.current.attachShadow({ mode: 'open' });
    shadow.replaceChildren();
    const mount = document.createElement('div');
    shadow.append(mount);
    editor.current = new EditorView({
      doc: props.initial,
      root: shadow,
      parent: mount,
      extensions: [
        basicSetup,
        ...props.extensions,
        EditorView.contentAttributes.of({ 'aria-label': props.label }),
        EditorView.updateListener.of((update) => {
          if (update.docChanged) onChange.current?.();
        }),
      ],
    });
    return () => {
      editor.current?.destroy();
      editor.current = null;
    };
    // The editor is made once, when ready: its text then belongs to the person typing.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [ready]);

  return <div className="editor" ref={host} />;
}
