# checkov loads Python checks from --external-checks-dir only when the folder is a package.
