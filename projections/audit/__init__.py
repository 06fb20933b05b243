"""The causation-chain audit (seed §21, §22), pure: committed events and recorded side effects
in, a timeline, a causation tree, the answers to §22's questions and a Mermaid diagram out."""
