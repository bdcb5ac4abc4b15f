git init -q -b main
git add -A
git commit -q -m "Initial commit"
git init -q --bare -b main ../origin.git
git remote add origin ../origin.git
git push -q -u origin main
# an edit to a tracked file, and a new file nobody added
printf '\n[tool.ruff]\nline-length = 100\n' >> pyproject.toml
echo 'draft notes' > NOTES.md
